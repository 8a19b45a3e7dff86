"""dancer-admin: what an operator needs on a running deployment (see README, "Operators")."""
