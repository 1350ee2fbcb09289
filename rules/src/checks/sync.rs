//! External semaphores and fences: export create infos, fd export and import
//! (RULES-TARGET 1.15, 1.16, G15), and submissions that release memory without signalling.
