"""The loyalty program: versions, the owner's page, costing, bonuses, the business."""
