"""Training notebooks (``*.ipynb``) and the code they share (``notebooks.support``).

``python -m notebooks`` runs every notebook top to bottom, as the test suite does.
"""
