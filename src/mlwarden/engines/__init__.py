"""mlwarden.engines"""
