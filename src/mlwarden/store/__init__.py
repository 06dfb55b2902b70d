"""mlwarden.store"""
