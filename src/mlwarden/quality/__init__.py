"""mlwarden.quality"""
