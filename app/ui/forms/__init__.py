"""Case forms: login, intake, dispatch and the prompts of the other operations."""
