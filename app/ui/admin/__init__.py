"""The administrator's workspace (issue 12): pages over the configuration services, one tabbed dock."""
