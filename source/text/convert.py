"""Build an openai-whisper checkpoint from a CTranslate2 Whisper model (the assets faster-whisper uses).

CTranslate2's Transformers converter (``ctranslate2.converters.transformers.WhisperLoader``) renames
the Whisper weights and fuses the attention projections: self-attention query, key and value become
one ``linear_0``, cross-attention key and value one ``linear_1`` (the key has no bias in Whisper, so
its part of the fused bias is zeros). This module reads ``model.bin`` and undoes both steps, giving
the ``{"dims", "model_state_dict"}`` dict that ``whisper.load_model`` reads. The tokenizer is not
converted: openai-whisper ships its own (``whisper/assets/*.tiktoken``).
"""

import json
import re
import struct
from dataclasses import asdict
from pathlib import Path

import torch
from whisper.model import ModelDimensions

from ..fileio import atomic_path
from ..errors import StudioError

# ctranslate2 specs/model_spec.py: _dtype_to_type_id (order of DataType in ctranslate2/types.h)
_DTYPES = (torch.float32, torch.int8, torch.int16, torch.int32, torch.float16, torch.bfloat16)
_BINARY_VERSION = 6  # ctranslate2 specs/model_spec.py: CURRENT_BINARY_VERSION

_LAYER = {  # CTranslate2 name inside a layer -> openai-whisper name inside a block
    "self_attention/layer_norm": "attn_ln",
    "self_attention/linear_1": "attn.out",
    "attention/layer_norm": "cross_attn_ln",
    "attention/linear_0": "cross_attn.query",
    "attention/linear_2": "cross_attn.out",
    "ffn/layer_norm": "mlp_ln",
    "ffn/linear_0": "mlp.0",
    "ffn/linear_1": "mlp.2",
}
_TOP = {  # CTranslate2 name -> openai-whisper name, outside the blocks
    "encoder/conv1": "encoder.conv1",
    "encoder/conv2": "encoder.conv2",
    "encoder/position_encodings/encodings": "encoder.positional_embedding",
    "encoder/layer_norm": "encoder.ln_post",
    "decoder/embeddings/weight": "decoder.token_embedding.weight",
    "decoder/position_encodings/encodings": "decoder.positional_embedding",
    "decoder/layer_norm": "decoder.ln",
}
_PARAMETER = {"gamma": "weight", "beta": "bias", "weight": "weight", "bias": "bias"}


def read_ctranslate2(path: Path) -> dict[str, torch.Tensor]:
    """Every variable of a CTranslate2 ``model.bin`` (aliases resolved), by its spec name."""
    variables: dict[str, torch.Tensor] = {}
    with open(path, "rb") as file:

        def number(kind: str) -> int:
            return struct.unpack(kind, file.read(struct.calcsize(kind)))[0]

        def string() -> str:
            return file.read(number("H"))[:-1].decode("utf-8")  # stored with a trailing NUL

        version = number("I")
        if version != _BINARY_VERSION:
            raise StudioError(f"{path} is a CTranslate2 model of binary version {version}; "
                              f"the converter reads version {_BINARY_VERSION}.")
        spec = string()
        number("I")  # the spec's revision
        if spec != "WhisperSpec":
            raise StudioError(f"{path} holds a CTranslate2 {spec}, not a Whisper model.")
        for _ in range(number("I")):
            name = string()
            shape = [number("I") for _ in range(number("B"))]
            dtype = _DTYPES[number("B")]
            data = bytearray(file.read(number("I")))
            variables[name] = torch.frombuffer(data, dtype=dtype).reshape(shape)
        for _ in range(number("I")):
            alias, target = string(), string()
            variables[alias] = variables[target]
    return variables


def _layer_count(variables: dict, stack: str) -> int:
    return len({match[1] for name in variables if (match := re.match(rf"{stack}/layer_(\d+)/", name))})


def _state_dict(variables: dict, dims: ModelDimensions) -> dict[str, torch.Tensor]:
    state = {}

    def put(target: str, name: str) -> None:
        state[f"{target}.{_PARAMETER[name.rsplit('/', 1)[1]]}"] = variables[name].float()

    for name, tensor in variables.items():
        for prefix, target in _TOP.items():
            if name == prefix:
                state[target] = tensor.float()
            elif name.startswith(prefix + "/") and name.rsplit("/", 1)[1] in _PARAMETER:
                put(target, name)
    for stack, n_layers, width in (("encoder", dims.n_audio_layer, dims.n_audio_state),
                                   ("decoder", dims.n_text_layer, dims.n_text_state)):
        for i in range(n_layers):
            scope, block = f"{stack}/layer_{i}", f"{stack}.blocks.{i}"
            for name in [n for n in variables if n.startswith(scope + "/")]:
                part = name[len(scope) + 1:].rsplit("/", 1)[0]
                if part in _LAYER:
                    put(f"{block}.{_LAYER[part]}", name)
            # fused projections: [query; key; value] and, for cross-attention, [key; value]; the
            # key's bias is dropped, as Whisper's key has none (and a key bias only adds the same
            # amount to every key's score for a query, which the softmax ignores)
            fused = f"{scope}/self_attention/linear_0"
            query, key, value = variables[f"{fused}/weight"].float().split(width)
            q_bias, _, v_bias = variables[f"{fused}/bias"].float().split(width)
            state.update({f"{block}.attn.query.weight": query, f"{block}.attn.query.bias": q_bias,
                          f"{block}.attn.key.weight": key,
                          f"{block}.attn.value.weight": value, f"{block}.attn.value.bias": v_bias})
            if stack == "decoder":
                key, value = variables[f"{scope}/attention/linear_1/weight"].float().split(width)
                _, v_bias = variables[f"{scope}/attention/linear_1/bias"].float().split(width)
                state.update({f"{block}.cross_attn.key.weight": key,
                              f"{block}.cross_attn.value.weight": value,
                              f"{block}.cross_attn.value.bias": v_bias})
    return state


def convert(model_dir: Path, output: Path) -> Path:
    """Write the openai-whisper checkpoint of the CTranslate2 model in ``model_dir`` to ``output``.

    The checkpoint is float16, as the official ones are, and also carries the model's word-timing
    ``alignment_heads`` (from its config.json) as [layer, head] pairs.
    """
    model_dir = Path(model_dir)
    if not (model_dir / "model.bin").is_file():
        raise StudioError(f"{model_dir} is not a CTranslate2 model folder (it has no model.bin).")
    variables = read_ctranslate2(model_dir / "model.bin")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    dims = ModelDimensions(
        n_mels=variables["encoder/conv1/weight"].shape[1],
        n_audio_ctx=variables["encoder/position_encodings/encodings"].shape[0],
        n_audio_state=variables["encoder/position_encodings/encodings"].shape[1],
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=_layer_count(variables, "encoder"),
        n_vocab=variables["decoder/embeddings/weight"].shape[0],
        n_text_ctx=variables["decoder/position_encodings/encodings"].shape[0],
        n_text_state=variables["decoder/position_encodings/encodings"].shape[1],
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=_layer_count(variables, "decoder"),
    )
    state = {name: tensor.half() for name, tensor in _state_dict(variables, dims).items()}
    checkpoint = {"dims": asdict(dims), "model_state_dict": state,
                  "alignment_heads": [list(pair) for pair in config.get("alignment_heads", [])]}
    with atomic_path(Path(output)) as temporary:
        torch.save(checkpoint, temporary)
    return Path(output)
