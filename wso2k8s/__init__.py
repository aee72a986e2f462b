"""wso2-kubernetes: WSO2 Carbon products built into images and run on Kubernetes, with Pulumi."""
