"""One script per dashboard page (run by ``st.navigation``; importing one draws nothing)."""
