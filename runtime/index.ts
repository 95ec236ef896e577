// Public API of runtime/: nothing yet (see README.md for what this folder will own).
export {}
