"""supervisord, one per stack dir: it runs the stack's processes and restarts any that dies.

Every long-running process the native stack starts (the servers, the API, the streaming job)
is a supervisord program, added when `up` starts it and removed when `down` stops it. A program
that dies is started again at once; one that dies within START_SECONDS of its start is retried
after 1 s, 2 s, 3 s, ... (supervisord's backoff), up to START_RETRIES times in a row. A program
that `down` stopped stays stopped. supervisord itself starts with the first program of its
stack dir and exits with the last one.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from infra.processes import NotReady

# Programs get a clean environment, so nothing from the caller's shell changes how they run.
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

START_SECONDS = 5  # a program alive this long counts as started; dying sooner means backoff
START_RETRIES = 1000  # back-to-back failed starts (1 s, 2 s, ... apart: ~6 days) before giving up
LOG_MAX_BYTES = "50MB"
SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 107 bytes
ALIVE = ("STARTING", "RUNNING")
RESTARTING = ("BACKOFF", "EXITED")  # supervisord starts it again by itself
SUPERVISORD_START_TIMEOUT_S = 10


@dataclass(frozen=True)
class ProgramState:
    """What supervisord says about one program."""

    state: str  # STARTING, RUNNING, BACKOFF, STOPPING, STOPPED, EXITED, FATAL, UNKNOWN
    pid: int | None
    uptime_s: int | None  # since its current process started, while alive
    message: str  # why it is not running (spawn error, exit status), else ""

    @property
    def supervised(self) -> bool:
        """Running, or about to be started again by supervisord."""
        return self.state in (*ALIVE, *RESTARTING)


class Supervisor:
    """The supervisord of one stack dir: config, socket, log and program files all inside it."""

    def __init__(self, stack_dir: Path):
        self.stack_dir = Path(stack_dir)
        self.config = self.stack_dir / "supervisord.conf"
        self.programs = self.stack_dir / "supervisord.d"
        self.socket = self.stack_dir / "supervisord.sock"
        self.log = self.stack_dir / "supervisord.log"

    def _rpc(self):
        transport = SupervisorTransport(serverurl=f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def running(self) -> bool:
        """Whether this stack dir's supervisord answers."""
        if not self.socket.exists():
            return False
        try:
            return self._rpc().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def start(self) -> None:
        """Start supervisord unless it runs; a fresh one starts with no programs."""
        if self.running():
            return
        if len(str(self.socket)) > SOCKET_PATH_MAX:
            raise NotReady(f"the stack dir {self.stack_dir} is too long a path for "
                           f"supervisord's socket: choose a shorter STACK_DIR")
        shutil.rmtree(self.programs, ignore_errors=True)
        self.programs.mkdir(parents=True)
        self.config.write_text(self._config_text())
        launched = subprocess.run(  # supervisord forks into the background and returns
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.config)],
            env=BASE_ENV, capture_output=True, text=True, check=False,
        )
        deadline = time.monotonic() + SUPERVISORD_START_TIMEOUT_S
        while not self.running():
            if launched.returncode != 0 or time.monotonic() > deadline:
                raise NotReady(f"supervisord did not start ({launched.stderr.strip()}); "
                               f"see {self.log}")
            time.sleep(0.1)

    def add(self, name: str, program: str) -> None:
        """Run `program` (a [program:name] section) as `name`, starting supervisord if needed."""
        self.start()
        (self.programs / f"{name}.conf").write_text(program)
        rpc = self._rpc()
        _, changed, _ = rpc.reloadConfig()[0]
        if name in changed:
            _stop(rpc, name)
            rpc.removeProcessGroup(name)
        if name in [group["group"] for group in rpc.getAllProcessInfo()]:
            rpc.startProcess(name, False)
        else:
            rpc.addProcessGroup(name)  # autostart: supervisord spawns it now

    def remove(self, name: str) -> bool:
        """Stop `name` (SIGTERM to its process group, SIGKILL after its stop timeout) and forget
        it; supervisord exits once it has no program left. True if it was supervised."""
        state = self.state(name)
        if state is None:
            return False
        rpc = self._rpc()
        _stop(rpc, name)
        rpc.removeProcessGroup(name)
        (self.programs / f"{name}.conf").unlink(missing_ok=True)
        if not rpc.getAllProcessInfo():
            rpc.shutdown()
        return state.supervised

    def state(self, name: str) -> ProgramState | None:
        """supervisord's account of `name`; None if this stack dir's supervisord does not run it."""
        if not self.running():
            return None
        try:
            info = self._rpc().getProcessInfo(name)
        except xmlrpc.client.Fault:  # BAD_NAME: not a program here
            return None
        alive = info["statename"] in ALIVE and info["pid"]
        return ProgramState(
            state=info["statename"],
            pid=info["pid"] if alive else None,
            uptime_s=info["now"] - info["start"] if alive else None,
            message=info["spawnerr"] or _exit_text(info),
        )

    def _config_text(self) -> str:
        return "\n".join([
            "[unix_http_server]",
            f"file={_escaped(self.socket)}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={_escaped(self.log)}",
            f"logfile_maxbytes={LOG_MAX_BYTES}",
            f"pidfile={_escaped(self.stack_dir / 'supervisord.pid')}",
            f"directory={_escaped(self.stack_dir)}",
            f"childlogdir={_escaped(self.stack_dir)}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[include]",
            f"files = {_escaped(self.programs)}/*.conf",
            "",
        ])


def program_section(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    log_file: Path,
    stop_timeout: float,
) -> str:
    """A [program:name] section: `argv` in a clean environment (BASE_ENV + env), in its own
    process group (stopped as a group), stdout and stderr to log_file, restarted when it dies."""
    environment = [f"{key}={value}" for key, value in {**BASE_ENV, **env}.items()]
    command = shlex.join([shutil.which("env") or "/usr/bin/env", "-i", *environment, *argv])
    return "\n".join([
        f"[program:{name}]",
        f"command={_escaped(command)}",
        f"directory={_escaped(cwd)}",
        "autostart=true",
        "autorestart=true",
        f"startsecs={START_SECONDS}",
        f"startretries={START_RETRIES}",
        f"stopwaitsecs={round(stop_timeout)}",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={_escaped(log_file)}",
        f"stdout_logfile_maxbytes={LOG_MAX_BYTES}",
        "stdout_logfile_backups=2",
        "",
    ])


def _stop(rpc, name: str) -> None:
    """Stop the program and wait until it has; fine if it was not running."""
    try:
        rpc.stopProcess(name, True)
    except xmlrpc.client.Fault as fault:  # NOT_RUNNING: stopped, exited or gave up already
        if "NOT_RUNNING" not in fault.faultString:
            raise


def _escaped(value) -> str:
    """A config value as supervisord reads it back: it expands %(name)s, so % is doubled."""
    return str(value).replace("%", "%%")


def _exit_text(info: dict) -> str:
    if info["statename"] in ("EXITED", "BACKOFF") and info["exitstatus"]:
        return f"exit status {info['exitstatus']}"
    return ""


class SupervisedProcess:
    """One server's process as a program of its stack dir's supervisord; log in `folder`."""

    def __init__(self, name: str, folder: Path, supervisor: Supervisor):
        self.name = name
        self.supervisor = supervisor
        self.log_file = folder / f"{name}.log"

    def state(self) -> ProgramState | None:
        return self.supervisor.state(self.name)

    def pid(self) -> int | None:
        """The pid of its live process, None while it is not running."""
        state = self.state()
        return state.pid if state else None

    def supervised(self) -> bool:
        """Running, or about to be started again by the supervisor."""
        state = self.state()
        return state is not None and state.supervised

    def has_exited(self) -> bool:
        """Its process ended (supervisord may start it again); False until it first starts."""
        state = self.state()
        return state is None or state.state in (*RESTARTING, "FATAL")

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path,
              stop_timeout: float) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        section = program_section(self.name, argv, env, cwd, self.log_file, stop_timeout)
        self.supervisor.add(self.name, section)

    def stop(self) -> bool:
        """Stop it for good; True if it was running or restarting."""
        return self.supervisor.remove(self.name)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the log, for error messages."""
        return log_tail(self.log_file, lines)


def log_tail(log_file: Path, lines: int = 30) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = log_file.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {log_file})"
    return "\n".join(text.splitlines()[-lines:])
