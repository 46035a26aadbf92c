"""Property-based fuzzing of the report parser and the webhook."""
