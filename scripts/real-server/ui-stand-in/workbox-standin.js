// Not loaded: present because llama-server requires a workbox asset.
