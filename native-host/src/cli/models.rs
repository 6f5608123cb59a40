//! `feedwarden models list|fetch`: the models the manifests describe, whether they are installed, and a
//! resumable, sha256-checked download for the ones users fetch themselves.
