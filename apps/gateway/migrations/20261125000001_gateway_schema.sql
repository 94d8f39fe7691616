-- The gateway owns this schema; no other service reads or writes it.
COMMENT ON SCHEMA gateway IS 'Alliance gateway: one base URL for REST, GraphQL and the API documentation';
