"""The offline responder: answers in English from the memories and messages it is given, no model needed."""
