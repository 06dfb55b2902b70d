"""mlwarden.performance"""
