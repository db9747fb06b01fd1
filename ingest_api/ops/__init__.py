"""Operations: typed errors and their answers, health, metrics, request ids, the circuit
breaker and the version."""
