// Attachments of inbound messages: the metadata of each, and its bytes when
// they fit the size limit (docs/architecture.md, "Conversations").
export {};
