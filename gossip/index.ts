// Public API of gossip/: nothing yet (see README.md for what this folder will own).
export {}
