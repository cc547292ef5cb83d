"""PyTorch {{ cookiecutter.display_name }}: a decoder-only transformer with RMSNorm, rotary position embeddings,
grouped-query attention and a SwiGLU MLP."""

import inspect
import math
from collections.abc import Callable

import torch
import transformers
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache, DynamicCache
from transformers.masking_utils import create_causal_mask
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
{%- if cookiecutter.heads == "causal-lm-and-sequence-classification" %}
    SequenceClassifierOutputWithPast,
{%- endif %}
)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.utils import logging

from .configuration_{{ cookiecutter.module_name }} import {{ cookiecutter.class_prefix }}Config


logger = logging.get_logger(__name__)


# Compatibility with transformers 4.57 to 5.x: everything that differs between releases is decided here, once.

# Release 5 describes tied weights as a {target: source} mapping; release 4 lists the targets.
_TRANSFORMERS_MAJOR = int(transformers.__version__.split(".")[0])
# Release 5.24 renamed the key/value cache from `past_key_values` to `cache` in forward arguments and outputs.
_CACHE_OUTPUT_NAME = "cache" if "cache" in BaseModelOutputWithPast.__dataclass_fields__ else "past_key_values"
_MASK_PARAMETERS = frozenset(inspect.signature(create_causal_mask).parameters)


def _cache_output(cache: Cache | None) -> dict:
    """Names the returned cache the way the installed `generate` reads it back."""
    return {_CACHE_OUTPUT_NAME: cache}


def _pop_legacy_cache(cache: Cache | None, kwargs: dict) -> Cache | None:
    """Accepts a cache passed under the name used before transformers 5.24."""
    legacy = kwargs.pop("past_key_values", None)
    return cache if cache is not None else legacy


def _build_causal_mask(config, inputs_embeds, attention_mask, cache, cache_position, position_ids):
    """Calls transformers' `create_causal_mask` with the argument names of the installed release."""
    arguments = {"config": config, "attention_mask": attention_mask, "position_ids": position_ids}
    arguments["inputs_embeds" if "inputs_embeds" in _MASK_PARAMETERS else "input_embeds"] = inputs_embeds
    arguments["cache" if "cache" in _MASK_PARAMETERS else "past_key_values"] = cache
    if "cache_position" in _MASK_PARAMETERS:
        arguments["cache_position"] = cache_position
    return create_causal_mask(**arguments)


class {{ cookiecutter.class_prefix }}RMSNorm(nn.Module):
    """Root-mean-square layer norm: scales each vector to unit RMS (computed in float32), then by a learned gain."""

    def __init__(self, hidden_size: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)  # (B, T, 1)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"


class {{ cookiecutter.class_prefix }}RotaryEmbedding(nn.Module):
    """Rotary position embeddings with the `default`, `linear`, `dynamic` (NTK) and `llama3` frequency schemes.

    The inverse frequencies are non-persistent buffers: they are never saved, so `reset_frequencies` rebuilds them
    whenever weights are initialised (including after loading on the meta device).
    """

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config):
        super().__init__()
        self.config = config
        self.rope_type = config.rope_parameters["rope_type"]
        self.original_max_seq_len = config.max_position_embeddings
        self.max_seq_len_cached = config.max_position_embeddings
        self.register_buffer("inv_freq", self.compute_inv_freq(), persistent=False)
        self.register_buffer("original_inv_freq", self.inv_freq.clone(), persistent=False)

    def compute_inv_freq(self, seq_len: int | None = None, device: torch.device | None = None) -> torch.Tensor:
        """Inverse frequencies of shape `(head_dim // 2,)` for this config's scheme; `seq_len` drives `dynamic`."""
        rope = self.config.rope_parameters
        dim = self.config.head_dim
        base = rope["rope_theta"]
        if self.rope_type == "dynamic":
            # NTK-aware scaling: grow the base once the sequence outruns the trained length.
            seq_len = max(seq_len or 0, self.original_max_seq_len)
            factor = rope["factor"]
            base = base * ((factor * seq_len / self.original_max_seq_len) - (factor - 1)) ** (dim / (dim - 2))
        exponents = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim
        inv_freq = 1.0 / (base**exponents)
        if self.rope_type == "linear":
            inv_freq = inv_freq / rope["factor"]
        elif self.rope_type == "llama3":
            inv_freq = self._llama3_inv_freq(inv_freq, rope)
        return inv_freq

    @staticmethod
    def _llama3_inv_freq(inv_freq: torch.Tensor, rope: dict) -> torch.Tensor:
        """Slows low frequencies by `factor`, keeps high ones, and blends the band in between."""
        factor = rope["factor"]
        low_freq_factor, high_freq_factor = rope["low_freq_factor"], rope["high_freq_factor"]
        context = rope["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > context / low_freq_factor, inv_freq / factor, inv_freq)
        smooth = (context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        in_band = (wavelen >= context / high_freq_factor) & (wavelen <= context / low_freq_factor)
        return torch.where(in_band, blended, scaled)

    @torch.no_grad()
    def reset_frequencies(self):
        inv_freq = self.compute_inv_freq(device=self.inv_freq.device)
        self.inv_freq.copy_(inv_freq)
        self.original_inv_freq.copy_(inv_freq)
        self.max_seq_len_cached = self.original_max_seq_len

    @torch.no_grad()
    def _update_dynamic_frequencies(self, position_ids: torch.Tensor):
        # NOTE: reading the longest position is a host sync with a data-dependent branch, so `dynamic` scaling
        # cannot run under `torch.compile(fullgraph=True)`; the other rotary types can.
        seq_len = int(position_ids.max()) + 1
        if seq_len > self.max_seq_len_cached:
            self.inv_freq = self.compute_inv_freq(seq_len, device=position_ids.device)
            self.max_seq_len_cached = seq_len
        elif seq_len < self.original_max_seq_len < self.max_seq_len_cached:
            # Back within the trained length: return to the exact original frequencies.
            self.inv_freq = self.original_inv_freq.to(position_ids.device)
            self.max_seq_len_cached = self.original_max_seq_len

    @torch.no_grad()
    def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.rope_type == "dynamic":
            self._update_dynamic_frequencies(position_ids)
        inv_freq = self.inv_freq.to(device=x.device, dtype=torch.float32)
        # Computed in float32 even under autocast: positions times frequencies lose precision in half precision.
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = position_ids[..., None].float() * inv_freq  # (B, T, head_dim // 2)
            emb = torch.cat((freqs, freqs), dim=-1)  # (B, T, head_dim)
            cos, sin = emb.cos(), emb.sin()
        return cos.to(x.dtype), sin.to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """Maps the two halves (x1, x2) of the last dimension to (-x2, x1)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    """Rotates queries and keys of shape (B, heads, T, D) by the angles in `cos` and `sin` of shape (B, T, D)."""
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # (B, 1, T, head_dim)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(hidden_states: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Repeats each key/value head `n_rep` times: (B, kv_heads, T, D) -> (B, kv_heads * n_rep, T, D)."""
    batch, num_key_value_heads, seq_len, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, seq_len, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, seq_len, head_dim)


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference attention in plain PyTorch; the only implementation that can return attention probabilities."""
    key = repeat_kv(key, module.num_key_value_groups)
    value = repeat_kv(value, module.num_key_value_groups)

    attn_weights = torch.matmul(query, key.transpose(2, 3)) * scaling  # (B, heads, T_q, T_kv)
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            attn_weights = attn_weights.masked_fill(~attention_mask, torch.finfo(attn_weights.dtype).min)
        else:
            attn_weights = attn_weights + attention_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value)  # (B, heads, T_q, D)
    attn_output = attn_output.transpose(1, 2).contiguous()  # (B, T_q, heads, D)
    return attn_output, attn_weights


class {{ cookiecutter.class_prefix }}Attention(nn.Module):
    """Grouped-query self-attention; the kernel is picked by `config._attn_implementation`."""

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config, layer_idx: int):
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim**-0.5
        self.attention_dropout = config.attention_dropout
        self.is_causal = True

        q_width = config.num_attention_heads * self.head_dim
        kv_width = config.num_key_value_heads * self.head_dim
        self.q_proj = nn.Linear(config.hidden_size, q_width, bias=config.attention_bias)
        self.k_proj = nn.Linear(config.hidden_size, kv_width, bias=config.attention_bias)
        self.v_proj = nn.Linear(config.hidden_size, kv_width, bias=config.attention_bias)
        self.o_proj = nn.Linear(q_width, config.hidden_size, bias=config.attention_bias)

    def forward(
        self,
        hidden_states: torch.Tensor,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        attention_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        cache_position: torch.LongTensor | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)

        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)  # (B, heads, T, D)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)  # (B, kv_heads, T, D)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)  # (B, kv_heads, T, D)

        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)

        if cache is not None:
            # Static caches of older releases place the new entries by `cache_position`.
            key_states, value_states = cache.update(
                key_states, value_states, self.layer_idx, {"cache_position": cache_position}
            )

        attention_interface: Callable = eager_attention_forward
        if self.config._attn_implementation != "eager":
            attention_interface = ALL_ATTENTION_FUNCTIONS[self.config._attn_implementation]

        attn_output, attn_weights = attention_interface(
            self,
            query_states,
            key_states,
            value_states,
            attention_mask,
            dropout=0.0 if not self.training else self.attention_dropout,
            scaling=self.scaling,
            **kwargs,
        )
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()  # (B, T, heads * D)
        attn_output = self.o_proj(attn_output)
        return attn_output, attn_weights


class {{ cookiecutter.class_prefix }}MLP(nn.Module):
    """Gated MLP: down(act(gate(x)) * up(x)); SwiGLU with the default `silu` activation."""

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=config.mlp_bias)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=config.mlp_bias)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=config.mlp_bias)
        self.act_fn = ACT2FN[config.hidden_act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class {{ cookiecutter.class_prefix }}DecoderLayer(GradientCheckpointingLayer):
    """One pre-norm block: x + attention(norm(x)), then x + mlp(norm(x)). Returns hidden states of shape (B, T, C)."""

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config, layer_idx: int):
        super().__init__()
        self.self_attn = {{ cookiecutter.class_prefix }}Attention(config, layer_idx)
        self.mlp = {{ cookiecutter.class_prefix }}MLP(config)
        self.input_layernorm = {{ cookiecutter.class_prefix }}RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = {{ cookiecutter.class_prefix }}RMSNorm(
            config.hidden_size, eps=config.rms_norm_eps
        )

    def forward(
        self,
        hidden_states: torch.Tensor,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        attention_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        cache_position: torch.LongTensor | None = None,
        **kwargs,
    ) -> torch.Tensor:
        # Self Attention
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states, _ = self.self_attn(
            hidden_states,
            position_embeddings=position_embeddings,
            attention_mask=attention_mask,
            cache=cache,
            cache_position=cache_position,
            **kwargs,
        )
        hidden_states = residual + hidden_states

        # Fully Connected
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = residual + self.mlp(hidden_states)
        return hidden_states


class {{ cookiecutter.class_prefix }}PreTrainedModel(PreTrainedModel):
    config_class = {{ cookiecutter.class_prefix }}Config
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _no_split_modules = ["{{ cookiecutter.class_prefix }}DecoderLayer"]
    _skip_keys_device_placement = ["past_key_values", "cache"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _can_compile_fullgraph = True
    # Attention goes through `ALL_ATTENTION_FUNCTIONS` with keyword arguments passed down, as serving engines need.
    _supports_attention_backend = True

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config, *inputs, **kwargs):
        # Checked again here: attributes set on the config after it was created skipped its own checks.
        config.check_hyperparameters()
        super().__init__(config, *inputs, **kwargs)

    def _init_weights(self, module: nn.Module):
        # While loading a checkpoint, transformers makes the `torch.nn.init` functions skip tensors the checkpoint
        # already filled, so only missing weights are initialised here.
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None and not getattr(module.weight, "_is_hf_initialized", False):
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, {{ cookiecutter.class_prefix }}RMSNorm):
            nn.init.ones_(module.weight)
        elif isinstance(module, {{ cookiecutter.class_prefix }}RotaryEmbedding):
            # Non-persistent buffers are not in the checkpoint: rebuild them, or meta-device loading leaves garbage.
            module.reset_frequencies()


class {{ cookiecutter.class_prefix }}Model({{ cookiecutter.class_prefix }}PreTrainedModel):
    """The bare decoder: token embeddings, decoder layers and a final norm, returning hidden states."""

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config):
        super().__init__(config)
        self.padding_idx = config.pad_token_id
        self.vocab_size = config.vocab_size

        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, self.padding_idx)
        self.layers = nn.ModuleList(
            [
                {{ cookiecutter.class_prefix }}DecoderLayer(config, layer_idx)
                for layer_idx in range(config.num_hidden_layers)
            ]
        )
        self.norm = {{ cookiecutter.class_prefix }}RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = {{ cookiecutter.class_prefix }}RotaryEmbedding(config)
        self.gradient_checkpointing = False

        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding):
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPast | tuple:
        cache = _pop_legacy_cache(cache, kwargs)
        output_attentions = output_attentions if output_attentions is not None else self.config.output_attentions
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        return_dict = return_dict if return_dict is not None else self.config.return_dict

        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of `input_ids` and `inputs_embeds`.")
        if self.gradient_checkpointing and self.training and use_cache:
            logger.warning_once("`use_cache=True` cannot be combined with gradient checkpointing; using no cache.")
            use_cache = False

        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (B, T, C)
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)

        cache_position = kwargs.pop("cache_position", None)
        if cache_position is None:
            # Static caches of several 5.x releases report their length as a one-element tensor, which `arange`
            # refuses as a bound; added to the offsets it works for ints and tensors alike.
            past_seen_tokens = cache.get_seq_length() if cache is not None else 0
            cache_position = torch.arange(inputs_embeds.shape[1], device=inputs_embeds.device) + past_seen_tokens
        if position_ids is None:
            position_ids = cache_position.unsqueeze(0)  # (1, T)

        causal_mask = _build_causal_mask(
            self.config, inputs_embeds, attention_mask, cache, cache_position, position_ids
        )
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)

        all_hidden_states = () if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        # Decoder layers return only hidden states, as pipeline-parallel stages require; attention probabilities are
        # picked up from the attention modules on the way past.
        hooks = self._record_attentions(all_attentions) if output_attentions else []
        try:
            for decoder_layer in self.layers:
                if output_hidden_states:
                    all_hidden_states += (hidden_states,)
                hidden_states = decoder_layer(
                    hidden_states,
                    position_embeddings=position_embeddings,
                    attention_mask=causal_mask,
                    cache=cache,
                    cache_position=cache_position,
                    position_ids=position_ids,
                    **kwargs,
                )
        finally:
            for hook in hooks:
                hook.remove()

        hidden_states = self.norm(hidden_states)
        if output_hidden_states:
            all_hidden_states += (hidden_states,)

        output = BaseModelOutputWithPast(
            last_hidden_state=hidden_states,
            hidden_states=all_hidden_states,
            attentions=tuple(all_attentions) if output_attentions else None,
            **_cache_output(cache if use_cache else None),
        )
        return output if return_dict else output.to_tuple()

    def _record_attentions(self, store: list) -> list:
        """Hooks every attention module to append its probabilities, (B, heads, T_q, T_kv), to `store`."""

        def record(module, args, output):
            store.append(output[1])

        return [layer.self_attn.register_forward_hook(record) for layer in self.layers]


class {{ cookiecutter.class_prefix }}ForCausalLM({{ cookiecutter.class_prefix }}PreTrainedModel, GenerationMixin):
    """The decoder with a language-modeling head on top; `generate` comes from `GenerationMixin`."""

    _tied_weights_keys = (
        {"lm_head.weight": "model.embed_tokens.weight"} if _TRANSFORMERS_MAJOR >= 5 else ["lm_head.weight"]
    )
    # The head is split by vocabulary across ranks and gathered back, so every rank sees full logits.
    _tp_plan = {"lm_head": "colwise_gather_output" if _TRANSFORMERS_MAJOR >= 5 else "colwise_rep"}
    _pp_plan = {"lm_head": (["hidden_states"], ["logits"])}

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config):
        super().__init__(config)
        self.model = {{ cookiecutter.class_prefix }}Model(config)
        self.vocab_size = config.vocab_size
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding):
        self.model.embed_tokens = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, new_embeddings: nn.Linear):
        self.lm_head = new_embeddings

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> CausalLMOutputWithPast | tuple:
        r"""
        labels (`torch.LongTensor` of shape `(batch_size, sequence_length)`, *optional*):
            Targets for the language-modeling loss, aligned with `input_ids` (the shift happens inside). Positions
            set to -100 are ignored.
        logits_to_keep (`int` or `torch.Tensor`, *optional*, defaults to 0):
            If an int, compute logits only for that many last positions (0 keeps all); generation needs only the
            last one, which saves a (T, vocab) matmul per step. If a 1D tensor, the sequence positions to keep.
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=_pop_legacy_cache(cache, kwargs),
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )

        hidden_states = outputs.last_hidden_state
        kept = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, kept, :])  # (B, T_kept, vocab)

        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits, labels=labels, vocab_size=self.config.vocab_size, **kwargs)

        output = CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            **_cache_output(outputs[_CACHE_OUTPUT_NAME] if _CACHE_OUTPUT_NAME in outputs else None),
        )
        return output if return_dict else output.to_tuple()
{%- if cookiecutter.heads == "causal-lm-and-sequence-classification" %}


class {{ cookiecutter.class_prefix }}ForSequenceClassification({{ cookiecutter.class_prefix }}PreTrainedModel):
    """The decoder with a linear head that scores the last real token of each sequence."""

    def __init__(self, config: {{ cookiecutter.class_prefix }}Config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = {{ cookiecutter.class_prefix }}Model(config)
        self.score = nn.Linear(config.hidden_size, self.num_labels, bias=False)

        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding):
        self.model.embed_tokens = value

    def _last_token_index(self, input_ids, attention_mask, batch_size, seq_len, device) -> torch.Tensor:
        """Position of the last real token of each row, whichever side the padding is on."""
        positions = torch.arange(seq_len, device=device)
        if input_ids is not None and self.config.pad_token_id is not None:
            is_real = input_ids != self.config.pad_token_id
        elif attention_mask is not None:
            is_real = attention_mask.to(device).bool()
        else:
            # No padding information: every row is taken to be full length.
            return torch.full((batch_size,), seq_len - 1, device=device)
        return (positions * is_real).argmax(-1)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutputWithPast | tuple:
        r"""
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class indices in `[0, num_labels)` (cross-entropy), floats for `num_labels == 1` (mean squared error),
            or multi-hot rows with `problem_type="multi_label_classification"` (binary cross-entropy).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=_pop_legacy_cache(cache, kwargs),
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        logits = self.score(outputs.last_hidden_state)  # (B, T, num_labels)
        batch_size, seq_len = logits.shape[:2]
        last_index = self._last_token_index(input_ids, attention_mask, batch_size, seq_len, logits.device)
        pooled_logits = logits[torch.arange(batch_size, device=logits.device), last_index]  # (B, num_labels)

        loss = None
        if labels is not None:
            loss = self._classification_loss(pooled_logits, labels.to(pooled_logits.device))

        output = SequenceClassifierOutputWithPast(
            loss=loss,
            logits=pooled_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            **_cache_output(outputs[_CACHE_OUTPUT_NAME] if _CACHE_OUTPUT_NAME in outputs else None),
        )
        return output if return_dict else output.to_tuple()

    def _classification_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        if self.config.problem_type == "regression":
            return nn.functional.mse_loss(logits.squeeze(-1), labels.to(logits.dtype).view(-1))
        if self.config.problem_type == "single_label_classification":
            return nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
        return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
{%- endif %}


__all__ = [
    "{{ cookiecutter.class_prefix }}PreTrainedModel",
    "{{ cookiecutter.class_prefix }}Model",
    "{{ cookiecutter.class_prefix }}ForCausalLM",
{%- if cookiecutter.heads == "causal-lm-and-sequence-classification" %}
    "{{ cookiecutter.class_prefix }}ForSequenceClassification",
{%- endif %}
]
