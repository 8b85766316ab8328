"""The languages a model is trained for come from its dataset and reach the model's manifest (the agent's Languages option)."""

import json

from trainer.train import _languages


def test_the_dataset_says_its_languages(tmp_path):
    dataset = tmp_path / "train.jsonl"
    dataset.write_text("")
    assert _languages(str(dataset)) == ["en"]  # a dataset from before languages (no stats.json, or none said) is English
    (tmp_path / "stats.json").write_text(json.dumps({"language": "en,de"}))
    assert _languages(str(dataset)) == ["en", "de"]
