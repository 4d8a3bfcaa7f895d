// The mailbox reader's checkpoint per inbox: UIDVALIDITY and the last UID
// stored under it, written in the transaction that stores the mail it covers
// (docs/providers.md, "IMAP").
export {};
