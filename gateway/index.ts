// Public API of gateway/: nothing yet (see README.md for what this folder will own).
export {}
