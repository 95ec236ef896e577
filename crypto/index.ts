// Public API of crypto/: nothing yet (see README.md for what this folder will own).
export {}
