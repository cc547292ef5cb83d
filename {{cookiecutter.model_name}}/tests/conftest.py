"""Shared fixtures: the repository's own classes, loaded the way users load them (as remote code)."""

import importlib.util
import pathlib
import shutil
import sys

import pytest
import torch
from transformers.dynamic_module_utils import get_class_from_dynamic_module


REPO = pathlib.Path(__file__).resolve().parents[1]
MODULE_NAME = "{{ cookiecutter.module_name }}"
CLASS_PREFIX = "{{ cookiecutter.class_prefix }}"


def load_class(module: str, name: str):
    """Imports `name` from `<module>_{MODULE_NAME}.py` through transformers' remote-code loader."""
    return get_class_from_dynamic_module(f"{module}_{MODULE_NAME}.{CLASS_PREFIX}{name}", str(REPO))


@pytest.fixture(scope="session")
def config_class():
    return load_class("configuration", "Config")


@pytest.fixture(scope="session")
def modeling():
    """The modeling module itself, for its helper functions and classes."""
    return sys.modules[load_class("modeling", "ForCausalLM").__module__]


@pytest.fixture
def tiny_config(config_class):
    """A config small enough for a forward pass in milliseconds; call with overrides."""

    def make(**overrides):
        values = dict(
            vocab_size=99,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=128,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
        )
        values.update(overrides)
        return config_class(**values)

    return make


@pytest.fixture
def tiny_model(tiny_config, modeling):
    """A freshly initialised causal LM in eval mode, seeded."""

    def make(model_class: str = "ForCausalLM", **overrides):
        torch.manual_seed(0)
        model = getattr(modeling, CLASS_PREFIX + model_class)(tiny_config(**overrides))
        return model.eval()

    return make


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> pathlib.Path:
    """A complete model folder as it would sit on the Hub: this repo's code, config and tokenizer files plus
    seeded random weights for the shipped (tiny) `config.json`."""
    from transformers import AutoConfig, AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("checkpoint")
    for path in REPO.iterdir():
        if path.is_file() and path.suffix in {".py", ".json", ".jinja"}:
            shutil.copy2(path, folder / path.name)
    config = AutoConfig.from_pretrained(REPO, trust_remote_code=True)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=True)
    model.save_pretrained(folder)
    return folder


def distinct_weights(model, std: float = 0.15):
    """Re-draws every parameter, seeded: norm gains in [0.5, 1.5] (so a norm that ignored its weight would show) and
    the rest normal with `std`, wider than the default init, so greedy decoding and argmax comparisons do not hinge on
    near-ties between logits. Returns the model in eval mode."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" in name:
                parameter.uniform_(0.5, 1.5)
            else:
                parameter.normal_(0.0, std)
    return model.eval()


def load_script(name: str):
    """Imports `scripts/<name>.py` as a module, so its functions can be called in this process."""
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
