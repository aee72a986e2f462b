module local/wso2k8s-pause

go 1.24.0
