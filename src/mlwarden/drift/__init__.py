"""mlwarden.drift"""
