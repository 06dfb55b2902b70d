"""mlwarden.registry"""
