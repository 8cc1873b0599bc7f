"""Codecs: fitted, reversible transforms between a modality and model arrays."""

from genmodels.codecs.array import ArrayCodec
from genmodels.codecs.base import Codec, codec_from_json, register_codec
from genmodels.codecs.tabular import TabularCodec

__all__ = ["ArrayCodec", "Codec", "TabularCodec", "codec_from_json", "register_codec"]
