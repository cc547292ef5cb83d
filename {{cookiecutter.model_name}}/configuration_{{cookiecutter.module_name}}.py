"""{{ cookiecutter.display_name }} model configuration."""

from transformers import PretrainedConfig
from transformers.activations import ACT2FN
from transformers.utils import logging


logger = logging.get_logger(__name__)

# Rotary scaling schemes this model implements, with the keys each one needs besides `rope_type` and `rope_theta`.
ROPE_TYPES = {
    "default": (),
    "linear": ("factor",),
    "dynamic": ("factor",),
    "llama3": ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"),
}


class {{ cookiecutter.class_prefix }}Config(PretrainedConfig):
    r"""
    Configuration of a [`{{ cookiecutter.class_prefix }}Model`]: a decoder-only transformer with RMSNorm,
    rotary position embeddings, grouped-query attention and a SwiGLU MLP. The defaults describe a model of about
    100M parameters.

    Args:
        vocab_size (`int`, *optional*, defaults to 32000):
            Number of tokens the embedding matrix and the language-modeling head cover.
        hidden_size (`int`, *optional*, defaults to 768):
            Width of the residual stream.
        intermediate_size (`int`, *optional*, defaults to 2048):
            Width of the gated MLP.
        num_hidden_layers (`int`, *optional*, defaults to 12):
            Number of decoder layers.
        num_attention_heads (`int`, *optional*, defaults to 12):
            Number of query heads in each attention layer.
        num_key_value_heads (`int`, *optional*):
            Number of key/value heads (grouped-query attention). Must divide `num_attention_heads`; defaults to
            `num_attention_heads` (plain multi-head attention).
        head_dim (`int`, *optional*):
            Width of each head. Defaults to `hidden_size // num_attention_heads`.
        hidden_act (`str`, *optional*, defaults to `"silu"`):
            Activation of the MLP gate.
        max_position_embeddings (`int`, *optional*, defaults to 2048):
            Longest sequence the model is trained for; dynamic rotary scaling stretches beyond it.
        initializer_range (`float`, *optional*, defaults to 0.02):
            Standard deviation of the normal initialisation of linear and embedding weights.
        rms_norm_eps (`float`, *optional*, defaults to 1e-6):
            Epsilon of the RMS normalisation layers.
        use_cache (`bool`, *optional*, defaults to `True`):
            Whether the model returns its key/value cache for faster decoding.
        pad_token_id, bos_token_id, eos_token_id (`int`, *optional*):
            Special token ids. `pad_token_id` also tells sequence classification which tokens are padding.
        tie_word_embeddings (`bool`, *optional*, defaults to `{{ 'True' if cookiecutter.tie_word_embeddings == 'yes' else 'False' }}`):
            Whether the language-modeling head shares its weight with the input embeddings.
        rope_parameters (`dict`, *optional*):
            Rotary embedding settings: `rope_type` (one of `"default"`, `"linear"`, `"dynamic"`, `"llama3"`),
            `rope_theta`, and the scaling keys that type needs (`factor`; for `"llama3"` also `low_freq_factor`,
            `high_freq_factor` and `original_max_position_embeddings`). Defaults to
            `{"rope_type": "default", "rope_theta": 10000.0}`. The legacy `rope_theta` and `rope_scaling` keywords
            are accepted and folded into this dictionary.
        attention_bias (`bool`, *optional*, defaults to `False`):
            Whether the query, key, value and output projections have a bias.
        attention_dropout (`float`, *optional*, defaults to 0.0):
            Dropout on the attention probabilities during training.
        mlp_bias (`bool`, *optional*, defaults to `False`):
            Whether the MLP projections have a bias.

    Example:

    ```python
    >>> from transformers import AutoConfig, AutoModelForCausalLM

    >>> config = AutoConfig.from_pretrained("{{ cookiecutter.repo_id }}", trust_remote_code=True)
    >>> model = AutoModelForCausalLM.from_config(config, trust_remote_code=True)
    ```
    """

    model_type = "{{ cookiecutter.model_type }}"
    keys_to_ignore_at_inference = ["past_key_values", "cache"]
    # Tensor-parallel plan of the base model, applied by `from_pretrained(..., tp_plan="auto")`.
    base_model_tp_plan = {
        "layers.*.self_attn.q_proj": "colwise",
        "layers.*.self_attn.k_proj": "colwise",
        "layers.*.self_attn.v_proj": "colwise",
        "layers.*.self_attn.o_proj": "rowwise",
        "layers.*.mlp.gate_proj": "colwise",
        "layers.*.mlp.up_proj": "colwise",
        "layers.*.mlp.down_proj": "rowwise",
    }
    # Pipeline-parallel plan: which inputs each stage consumes and which outputs it hands on.
    base_model_pp_plan = {
        "embed_tokens": (["input_ids"], ["inputs_embeds"]),
        "layers": (["hidden_states", "attention_mask"], ["hidden_states"]),
        "norm": (["hidden_states"], ["hidden_states"]),
    }

    def __init__(
        self,
        vocab_size=32000,
        hidden_size=768,
        intermediate_size=2048,
        num_hidden_layers=12,
        num_attention_heads=12,
        num_key_value_heads=None,
        head_dim=None,
        hidden_act="silu",
        max_position_embeddings=2048,
        initializer_range=0.02,
        rms_norm_eps=1e-6,
        use_cache=True,
        pad_token_id=None,
        bos_token_id=None,
        eos_token_id=None,
        tie_word_embeddings={{ 'True' if cookiecutter.tie_word_embeddings == 'yes' else 'False' }},
        rope_parameters=None,
        attention_bias=False,
        attention_dropout=0.0,
        mlp_bias=False,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_attention_heads if num_key_value_heads is None else num_key_value_heads
        self.head_dim = head_dim
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_cache = use_cache
        self.attention_bias = attention_bias
        self.attention_dropout = attention_dropout
        self.mlp_bias = mlp_bias
        self.rope_parameters = self._fold_rope_arguments(
            rope_parameters, kwargs.pop("rope_theta", None), kwargs.pop("rope_scaling", None)
        )
        self.check_hyperparameters()
        if self.head_dim is None:
            self.head_dim = hidden_size // num_attention_heads
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )

    @staticmethod
    def _fold_rope_arguments(rope_parameters, rope_theta, rope_scaling):
        """Builds one `rope_parameters` dictionary from the current keyword and the legacy ones."""
        if rope_parameters is None:
            rope_parameters = dict(rope_scaling or {})
            # Legacy configs spell the type `type` and keep the base outside the scaling dictionary.
            if "type" in rope_parameters:
                rope_parameters["rope_type"] = rope_parameters.pop("type")
            rope_parameters.setdefault("rope_type", "default")
        elif rope_scaling is not None and dict(rope_scaling) != dict(rope_parameters):
            raise ValueError(
                f"Both `rope_parameters` ({rope_parameters}) and the legacy `rope_scaling` ({rope_scaling}) were "
                "given and they differ. Pass only `rope_parameters`."
            )
        rope_parameters = dict(rope_parameters)
        if rope_theta is not None and rope_parameters.setdefault("rope_theta", rope_theta) != rope_theta:
            raise ValueError(
                f"`rope_parameters['rope_theta']` ({rope_parameters['rope_theta']}) and the legacy `rope_theta` "
                f"({rope_theta}) were both given and differ. Pass only `rope_parameters`."
            )
        rope_parameters.setdefault("rope_theta", 10000.0)
        return rope_parameters

    def check_hyperparameters(self):
        """Raises a `ValueError` naming the first hyperparameter that no model can be built from.

        Runs when the config is created and again when a model is built from it, which catches values set afterwards
        (for example keyword overrides passed to `from_pretrained`).
        """
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                     "num_key_value_heads", "max_position_embeddings"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
        if self.head_dim is None and self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"`hidden_size` ({self.hidden_size}) must be divisible by `num_attention_heads` "
                f"({self.num_attention_heads}), or `head_dim` must be given explicitly."
            )
        if self.num_attention_heads % self.num_key_value_heads != 0:
            raise ValueError(
                f"`num_key_value_heads` ({self.num_key_value_heads}) must divide `num_attention_heads` "
                f"({self.num_attention_heads}) so that each key/value head serves the same number of query heads."
            )
        head_dim = self.head_dim if self.head_dim is not None else self.hidden_size // self.num_attention_heads
        if not isinstance(head_dim, int) or head_dim < 2 or head_dim % 2 != 0:
            raise ValueError(f"The head width must be an even integer for rotary embeddings, got {head_dim!r}.")
        if not 0.0 <= self.attention_dropout < 1.0:
            raise ValueError(f"`attention_dropout` must be in [0, 1), got {self.attention_dropout!r}.")
        if self.rms_norm_eps <= 0:
            raise ValueError(f"`rms_norm_eps` must be positive, got {self.rms_norm_eps!r}.")
        if self.hidden_act not in ACT2FN:
            raise ValueError(
                f"`hidden_act` is {self.hidden_act!r}, which `transformers.activations.ACT2FN` does not know. "
                "Use one of its names, such as 'silu', 'gelu' or 'gelu_pytorch_tanh'."
            )
        self._check_rope_parameters()

    def _check_rope_parameters(self):
        rope = self.rope_parameters
        rope_type = rope.get("rope_type")
        if rope_type not in ROPE_TYPES:
            raise ValueError(
                f"`rope_parameters['rope_type']` is {rope_type!r}, which this model does not implement. "
                f"Use one of {sorted(ROPE_TYPES)}."
            )
        missing = [key for key in ROPE_TYPES[rope_type] if rope.get(key) is None]
        if missing:
            raise ValueError(f"Rotary scaling {rope_type!r} needs {missing} in `rope_parameters`, got {rope}.")
        if not rope["rope_theta"] > 0:
            raise ValueError(f"`rope_parameters['rope_theta']` must be positive, got {rope['rope_theta']!r}.")
        if rope_type != "default" and not rope["factor"] >= 1.0:
            raise ValueError(f"`rope_parameters['factor']` must be at least 1.0, got {rope['factor']!r}.")
        if rope_type == "llama3" and not rope["high_freq_factor"] > rope["low_freq_factor"]:
            raise ValueError(
                f"`rope_parameters['high_freq_factor']` ({rope['high_freq_factor']}) must exceed "
                f"`low_freq_factor` ({rope['low_freq_factor']})."
            )


__all__ = ["{{ cookiecutter.class_prefix }}Config"]
