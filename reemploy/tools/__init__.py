"""Tools that measure the app rather than answer its questions: `bench` (how fast every page
answers) and `loadtest` (many sessions against a server). They drive Streamlit, so they stay
out of the logic the app and the CLI share."""
