"""Model families. Each module registers its models with ``@register``."""

from genmodels.models.base import (
    Capabilities,
    Field,
    Model,
    Param,
    Schema,
    get_model_class,
    make_model,
    register,
    registry,
)

__all__ = ["Capabilities", "Field", "Model", "Param", "Schema", "get_model_class",
           "make_model", "register", "registry"]
