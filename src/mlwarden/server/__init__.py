"""mlwarden.server"""
