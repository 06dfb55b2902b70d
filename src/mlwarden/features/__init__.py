"""mlwarden.features"""
