"""pip, uv and Poetry: pip.conf, netrc, index URLs and their credentials."""
