"""Channel-blind conversation logic: finite-state flows whose state lives in the database."""
