"""safetuned: safety-tune instruction-following LMs with LoRA and measure what it costs."""

import os

from omegaconf import OmegaConf

__version__ = "0.1.0"

# `${env_or:VAR,default}` in the configs: like oc.env, but an empty variable counts as unset (`VAR= make ...`).
if not OmegaConf.has_resolver("env_or"):
    OmegaConf.register_new_resolver("env_or", lambda name, default=None: os.environ.get(name) or default)
