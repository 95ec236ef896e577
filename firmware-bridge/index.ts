// Public API of firmware-bridge/: nothing yet (see README.md for what this folder will own).
export {}
