"""The Streamlit studio's pieces (``app.py`` lays them out): one module per tab, and what they share."""
