//! External semaphores and fences: create with export, fd export and import, wait and
//! destroy (RULES-TARGET 1.15, 1.16, G15).
