"""How the batch job names, labels and filters the files it finds."""

from batch.bucket_writer import is_photo_path, label_of, relative_source


def test_a_spark_file_uri_becomes_a_path_relative_to_the_input():
    assert relative_source("file:/data/img/maize/a%20b.jpg", "/data/img") == "maize/a b.jpg"


def test_the_label_is_the_parent_folder():
    assert label_of("maize/a.jpg") == "maize"
    assert label_of("farm1/wheat/a.jpg") == "wheat"


def test_top_level_and_hidden_files_are_not_photos():
    assert is_photo_path("maize/a.jpg")
    assert not is_photo_path("README.md")
    assert not is_photo_path("maize/.DS_Store")
    assert not is_photo_path(".cache/maize/a.jpg")
