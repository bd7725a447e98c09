// Not registered: present because llama-server requires a service worker asset.
