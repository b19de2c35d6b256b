"""Built-in example problems, each a short file to copy: ``sirenkit solve NAME`` runs one."""
