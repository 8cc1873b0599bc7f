"""Codecs: fitted, reversible transforms between a modality and model arrays."""

from genmodels.codecs.array import ArrayCodec
from genmodels.codecs.base import Codec, codec_from_json, register_codec
from genmodels.codecs.music import MusicCodec
from genmodels.codecs.tabular import TabularCodec
from genmodels.codecs.text import TextCodec

__all__ = ["ArrayCodec", "Codec", "MusicCodec", "TabularCodec", "TextCodec", "codec_from_json", "register_codec"]
