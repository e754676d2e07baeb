//! A deployment's metric samples and the platform's own figures.
