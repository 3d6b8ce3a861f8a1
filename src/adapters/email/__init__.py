"""Email adapters: address validation, templates in the documents' sandbox, the senders."""
