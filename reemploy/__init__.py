"""Re-employment outcomes dashboard: the logic behind the pages and the command line."""
