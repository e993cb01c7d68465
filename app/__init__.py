"""live-sessions: live classes and office hours behind a GraphQL API."""
