"""mlwarden.profile"""
