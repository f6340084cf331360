# Hydra configs. Kept as a package (safetuned.conf) so they ship with any install of safetuned.
