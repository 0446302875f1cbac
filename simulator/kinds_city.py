"""The non-police datasets every city portal has, near misses included.

Near misses share words with police data ("calls for service", "stops", "citations",
"complaints", "force", "demographics") but are not police data; their ground truth is
``police=False`` with no categories.
"""

from __future__ import annotations

from typing import Any

from simulator.vocab import Kind

_GEO = ("Address", "Latitude", "Longitude", "Location")


def _k(
    key: str,
    department: str,
    domain: str,
    titles: tuple[str, ...],
    columns: tuple[str, ...],
    descriptions: tuple[str, ...] = (),
    **habits: Any,
) -> Kind:
    return Kind(
        key=key,
        titles=titles,
        descriptions=descriptions or ("Published by the {city} " + department + ". Updated as records change.",),
        columns=columns,
        department=department,
        domain_category=domain,
        **habits,
    )


CITY_KINDS: tuple[Kind, ...] = (
    _k(
        "budget", "Office of Budget and Management", "City Business",
        ("Operating Budget", "Capital Improvement Program", "Budget Expenditures", "Revenue Budget"),
        ("Fund", "Department", "Program", "Account", "Fiscal Year", "Budget Amount", "Actual Amount"),
        yearly_titles=("Adopted Budget FY{year}", "Budget Expenditures {year}"),
        descriptions=("The {city} adopted operating and capital budget by fund, department and program.",),
        frequencies=("annually",), spatial=False, tags=("budget", "finance"),
    ),
    _k(
        "payroll", "Human Resources", "City Business",
        ("Employee Salaries", "City Employee Payroll", "City Workforce Headcount"),
        ("Department", "Job Title", "Regular Pay", "Overtime Pay", "Total Pay", "Hire Date"),
        yearly_titles=("City Employee Payroll {year}",),
        frequencies=("annually", "quarterly"), spatial=False, tags=("payroll", "salaries", "employees"),
    ),
    _k(
        "city_workforce_demographics", "Human Resources", "City Business",
        ("City Workforce Demographics", "Employee Demographics - All Departments"),
        ("Department", "Race", "Gender", "Age Group", "Employee Count"),
        descriptions=("Demographics of all {city} employees by department, from the HR system.",),
        frequencies=("annually",), spatial=False, near_miss=True, tags=("employees", "demographics", "equity"),
    ),
    _k(
        "service_requests", "311 Customer Service", "Service Requests",
        ("311 Service Requests", "311 Call Center Data", "Customer Service Requests", "MyCity Requests"),
        ("Service Request ID", "Request Type", "Created Date", "Closed Date", "Status", "Council District", *_GEO),
        yearly_titles=("311 Service Requests {year}",),
        descriptions=(
            "Requests for city services made through 311 by phone, web and mobile app, with their status.",
            "All 311 service requests since {since}: potholes, graffiti, missed trash pickups and more.",
        ),
        frequencies=("daily", "daily", "weekly"), tags=("311", "service requests"), rows=(50_000, 3_000_000),
    ),
    _k(
        "building_permits", "Development Services", "Permitting",
        ("Building Permits", "Issued Construction Permits", "Electrical Permits", "Right-of-Way Permits", "Demolition Permits"),
        ("Permit Number", "Permit Type", "Issued Date", "Valuation Amount", "Contractor", "Status", *_GEO),
        yearly_titles=("Building Permits Issued {year}",),
        frequencies=("daily", "weekly", "monthly"), tags=("permits", "construction"), rows=(5_000, 500_000),
    ),
    _k(
        "code_enforcement", "Code Enforcement", "Housing & Development",
        ("Code Enforcement Cases", "Housing Code Violations", "Code Complaints", "Court Citations of Building Code Violations"),
        ("Case Number", "Opened Date", "Violation Type", "Inspector", "Status", *_GEO),
        descriptions=("Property maintenance and building code complaints investigated by {city} inspectors.",),
        frequencies=("daily", "weekly"), near_miss=True, tags=("code enforcement", "housing"), rows=(2_000, 200_000),
    ),
    _k(
        "restaurant_inspections", "Health Department", "Health",
        ("Restaurant Inspection Scores", "Food Establishment Inspections", "Food Safety Violations"),
        ("Establishment Name", "Inspection Date", "Inspection Score", "Violation Description", "Result", *_GEO),
        frequencies=("daily", "weekly"), tags=("food", "health", "inspections"), rows=(5_000, 300_000),
    ),
    _k(
        "parks", "Parks and Recreation", "Recreation",
        ("Parks", "Park Facilities", "Recreation Center Programs", "Trails", "Parks & Recreation Facilities", "Playgrounds"),
        ("Park Name", "Facility Type", "Acres", "Amenities", *_GEO),
        frequencies=("irregular", "annually", "none"), tags=("parks", "recreation"), rows=(50, 3_000),
    ),
    _k(
        "street_trees", "Urban Forestry", "Environment",
        ("Street Trees", "Tree Canopy", "Heritage Trees"),
        ("Tree ID", "Species", "Diameter at Breast Height", "Condition", "Planted Date", *_GEO),
        frequencies=("monthly", "irregular"), tags=("trees", "urban forestry"), rows=(10_000, 400_000),
    ),
    _k(
        "fire_incidents", "Fire Department", "Public Safety",
        ("Fire Incidents", "Fire Department Calls for Service", "EMS Responses", "Fire Inspections", "Fire Response Times"),
        ("Incident Number", "Alarm Date", "Incident Type", "Station", "Units Responding", "Response Time", *_GEO),
        yearly_titles=("Fire Department Calls for Service {year}", "EMS Responses {year}"),
        descriptions=(
            "Fire and emergency medical incidents the {city} Fire Department responded to, with "
            "alarm, dispatch and arrival times.",
        ),
        frequencies=("daily", "weekly", "monthly"), near_miss=True, tags=("fire", "ems", "emergency"),
        rows=(10_000, 900_000),
    ),
    _k(
        "fire_assets", "Fire Department", "Public Safety",
        ("Fire Stations", "Fire Hydrants", "Fire Station Response Areas"),
        ("Station Number", "Station Name", "Battalion", *_GEO),
        frequencies=("irregular", "annually"), tags=("fire", "stations"), rows=(10, 20_000),
    ),
    _k(
        "traffic_assets", "Transportation Department", "Transportation",
        ("Street Stop Signs", "Traffic Signals", "Bus Stops", "School Bus Stops", "Parking Meters", "Crosswalks", "Bike Lanes"),
        ("Asset ID", "Asset Type", "Install Date", "Street Name", "Condition", *_GEO),
        descriptions=("Transportation assets maintained by the {city} Transportation Department.",),
        frequencies=("monthly", "irregular", "annually"), near_miss=True, tags=("transportation", "streets"),
        rows=(200, 60_000),
    ),
    _k(
        "traffic_counts", "Transportation Department", "Transportation",
        ("Traffic Counts", "Average Daily Traffic Volumes", "Pedestrian Counts", "Bicycle Counts"),
        ("Count Station", "Count Date", "Direction", "Volume", "Street Name", *_GEO),
        yearly_titles=("Traffic Counts {year}",),
        frequencies=("monthly", "annually", "weekly"), tags=("traffic", "counts"), rows=(1_000, 200_000),
    ),
    _k(
        "parking", "Transportation Department", "Transportation",
        ("Parking Garage Occupancy", "On-Street Parking Transactions", "Residential Parking Permits"),
        ("Zone", "Transaction Date", "Amount Paid", "Duration Minutes", *_GEO),
        frequencies=("daily", "weekly"), tags=("parking",), rows=(10_000, 2_000_000),
    ),
    _k(
        "streets", "Public Works", "Transportation",
        ("Pothole Repairs", "Street Sweeping Schedule", "Snow Routes", "Street Centerlines", "Paving Program"),
        ("Segment ID", "Street Name", "Work Date", "Crew", "Status", *_GEO),
        frequencies=("weekly", "monthly", "irregular"), tags=("streets", "public works"), rows=(500, 80_000),
    ),
    _k(
        "utilities", "Water Utility", "Utilities",
        ("Water Main Breaks", "Water Quality Results", "Sewer Overflows", "Force Main Pipes", "Stormwater Outfalls"),
        ("Asset ID", "Event Date", "Pipe Diameter", "Material", "Status", *_GEO),
        descriptions=("Water, sewer and stormwater assets and events of the {city} utility.",),
        frequencies=("monthly", "weekly", "irregular"), near_miss=True, tags=("water", "sewer", "utilities"),
        rows=(200, 100_000),
    ),
    _k(
        "zoning", "Planning Department", "Housing & Development",
        ("Zoning Districts", "Parcels", "Land Use", "Council Districts", "Neighborhood Boundaries", "Census Tracts", "City Limits"),
        ("Zone Code", "Zone Description", "Ordinance", "Shape Area", "Shape Length"),
        frequencies=("irregular", "annually", "none"), tags=("zoning", "planning", "gis"), rows=(10, 300_000),
    ),
    _k(
        "finance", "Finance Department", "City Business",
        ("Vendor Payments", "Checkbook", "City Contracts", "Purchase Orders", "Property Tax Rates", "Debt Service"),
        ("Vendor Name", "Payment Date", "Amount", "Department", "Fund", "Description"),
        yearly_titles=("Vendor Payments {year}",),
        frequencies=("monthly", "weekly", "quarterly"), spatial=False, tags=("finance", "spending"),
        rows=(1_000, 900_000),
    ),
    _k(
        "elections", "Elections Office", "Government",
        ("Polling Places", "Registered Voters by Precinct", "Campaign Contributions"),
        ("Precinct", "Polling Place", "Registered Voters", "Ballots Cast", *_GEO),
        yearly_titles=("Election Results {year}",),
        frequencies=("irregular", "annually"), tags=("elections", "voting"), rows=(50, 50_000),
    ),
    _k(
        "library", "Public Library", "Education",
        ("Library Circulation", "Library Branches", "Library Events", "Library Checkouts by Title"),
        ("Branch", "Month", "Checkouts", "Material Type", "Visitors"),
        frequencies=("monthly", "annually"), spatial=False, tags=("library",), rows=(100, 900_000),
    ),
    _k(
        "animals", "Animal Services", "Health",
        ("Animal Shelter Intakes and Outcomes", "Dog Licenses", "Animal Control Calls for Service", "Lost and Found Pets"),
        ("Animal ID", "Intake Date", "Animal Type", "Breed", "Outcome Type", "Outcome Date"),
        descriptions=("Animals taken in by the {city} animal shelter and animal control calls for service.",),
        frequencies=("daily", "weekly"), spatial=False, near_miss=True, tags=("animals", "shelter"),
        rows=(2_000, 200_000),
    ),
    _k(
        "business", "City Clerk", "City Business",
        ("Business Licenses", "Liquor Licenses", "Short-Term Rental Registrations", "Sidewalk Cafe Permits"),
        ("License Number", "Business Name", "License Type", "Issued Date", "Expiration Date", *_GEO),
        frequencies=("daily", "weekly", "monthly"), tags=("business", "licenses"), rows=(1_000, 150_000),
    ),
    _k(
        "housing", "Housing Department", "Housing & Development",
        ("Affordable Housing Units", "Eviction Filings", "Rental Registry", "Homeless Point-in-Time Count"),
        ("Project Name", "Units", "Income Level", "Completion Year", *_GEO),
        frequencies=("quarterly", "annually", "monthly"), tags=("housing", "affordable housing"), rows=(50, 50_000),
    ),
    _k(
        "environment", "Sustainability Office", "Environment",
        ("Air Quality", "Recycling Tonnage", "Solid Waste Collection Routes", "Greenhouse Gas Inventory", "Energy Benchmarking"),
        ("Measure", "Reading Date", "Value", "Units", "Site"),
        frequencies=("daily", "monthly", "annually"), spatial=False, tags=("environment", "sustainability"),
        rows=(100, 500_000),
    ),
    _k(
        "emergency_management", "Office of Emergency Management", "Public Safety",
        ("Emergency Shelters", "Outdoor Warning Sirens", "Evacuation Zones", "Cooling Centers"),
        ("Site Name", "Capacity", "Status", *_GEO),
        frequencies=("irregular", "annually"), near_miss=True, tags=("emergency management", "shelters"),
        rows=(10, 500),
    ),
    _k(
        "court", "Municipal Court", "Government",
        ("Municipal Court Caseload", "Jury Service Statistics", "Court Hearing Calendar"),
        ("Case Type", "Filed Month", "Cases Filed", "Cases Disposed"),
        frequencies=("monthly", "quarterly"), spatial=False, near_miss=True, tags=("court",), rows=(100, 20_000),
    ),
    _k(
        "sheriff_sales", "City Clerk", "Housing & Development",
        ("Sheriff Sales", "Tax Foreclosure Auctions"),
        ("Sale Date", "Parcel Number", "Opening Bid Amount", "Status", *_GEO),
        descriptions=("Properties offered at public auction for unpaid taxes or foreclosure judgments.",),
        frequencies=("weekly", "monthly"), near_miss=True, tags=("auctions", "foreclosure"), rows=(100, 20_000),
    ),
    _k(
        "performance", "Office of Performance Management", "City Business",
        ("City Performance Measures", "Strategic Plan Indicators", "Resident Survey Results"),
        ("Measure", "Department", "Period", "Target", "Actual"),
        yearly_titles=("Community Survey {year}",),
        frequencies=("quarterly", "annually"), spatial=False, tags=("performance", "survey"), rows=(50, 10_000),
    ),
    _k(
        "transit", "Transportation Department", "Transportation",
        ("Bus Ridership by Route", "Transit Stops", "Bike Share Trips", "Scooter Trips"),
        ("Route", "Month", "Boardings", "Trip Duration", *_GEO),
        yearly_titles=("Bike Share Trips {year}",),
        frequencies=("monthly", "daily"), tags=("transit", "mobility"), rows=(1_000, 3_000_000),
    ),
    _k(
        "it_inventory", "Information Technology", "City Business",
        ("Open Data Inventory", "Public Wi-Fi Locations", "City Website Analytics", "Dataset Usage Metrics"),
        ("Name", "Department", "Date", "Count", "URL"),
        frequencies=("monthly", "weekly"), spatial=False, tags=("open data", "technology"), rows=(50, 100_000),
    ),
)
