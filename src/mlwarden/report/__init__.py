"""mlwarden.report"""
