"""History import and export in ActionableAgile's CSV format."""
